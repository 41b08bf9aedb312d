import Testing
@testable import ProofOfWork
