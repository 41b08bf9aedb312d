import Testing
@testable import WarrenCore
