/// Placeholder: replaced as the WarrenCore target gets real content.
enum WarrenCorePlaceholder {}
