/// Placeholder: replaced as the ProofOfWork target gets real content.
enum ProofOfWorkPlaceholder {}
