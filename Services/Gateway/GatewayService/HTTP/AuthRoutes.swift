import Contracts
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Persistence
import ServiceRuntime

/// The answer of register and login.
struct TokenResponse: Codable, Sendable, Equatable {
    var accessToken: String
    var tokenType: String
    var expiresIn: Int
    var userId: UUID
}

/// `POST /v1/auth/register` and `POST /v1/auth/login`.
struct AuthRoutes: Sendable {
    let runtime: KindredRuntime
    let tokens: AccessTokens
    let bcryptCost: Int
    /// A real hash at the configured cost to compare against when the e-mail is unknown,
    /// so both failures take the same time and give the same answer.
    let decoyHash: String
    let now: @Sendable () -> Date

    static let bodyLimit = 4 * 1024

    init(runtime: KindredRuntime, tokens: AccessTokens, bcryptCost: Int, now: @escaping @Sendable () -> Date) {
        self.runtime = runtime
        self.tokens = tokens
        self.bcryptCost = bcryptCost
        self.now = now
        self.decoyHash = Bcrypt.hash(UUID().uuidString, cost: UInt8(bcryptCost))
    }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/auth/register") { request, _ in try await register(request) }
        router.post("/v1/auth/login") { request, _ in try await login(request) }
    }

    func register(_ request: Request) async throws -> Response {
        let (email, password) = try await readCredentials(request)
        let cost = UInt8(bcryptCost)
        let hash = await offloaded { Bcrypt.hash(password, cost: cost) }
        let userID = UUID()
        let time = now()
        let registered = Envelope(
            source: .gateway, time: time, subject: userID.uuidString,
            data: UserRegistered(userId: userID, email: email, registeredAt: time),
            correlationID: RequestID.of(request))
        do {
            try await runtime.pool.transaction { connection in
                try AccountStore.insert(userID: userID, email: email, passwordHash: hash, at: time, on: connection)
                try Outbox.append(registered, on: connection)
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw Problem(
                status: .conflict, type: "email-taken", title: "This e-mail is already registered",
                detail: "sign in instead, or use another address")
        } catch let error as DatabaseError where error.kind == .connection {
            throw Problem.unavailable("the account database is unreachable")
        }
        runtime.relay.wake()
        return try jsonResponse(tokenResponse(for: userID, now: time), status: .created)
    }

    func login(_ request: Request) async throws -> Response {
        // Only the shape is checked here: a password that breaks the registration rules
        // simply does not match, and says no more than any wrong password does.
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, allowed: ["email", "password"])
        let email = body.string("email")
        let password = body.string("password")
        var errors = body.errors
        if email == nil, !errors.contains(where: { $0.field == "email" }) {
            errors.append(FieldError(field: "email", message: "is required"))
        }
        if password == nil, !errors.contains(where: { $0.field == "password" }) {
            errors.append(FieldError(field: "password", message: "is required"))
        }
        guard errors.isEmpty, let email, let password else { throw Problem.validation(errors) }
        let normalisedEmail = Credentials.normalise(email)
        let account: AccountStore.Account?
        do {
            account = try await runtime.pool.withConnection {
                try AccountStore.find(email: normalisedEmail, on: $0)
            }
        } catch let error as DatabaseError where error.kind == .connection {
            throw Problem.unavailable("the account database is unreachable")
        }
        let hash = account?.passwordHash ?? decoyHash
        let matches = await offloaded { Bcrypt.verify(password, hash: hash) }
        guard let account, matches else { throw Problem.badCredentials }
        return try jsonResponse(tokenResponse(for: account.userID, now: now()))
    }

    /// The e-mail and password of a registration, checked against the rules.
    private func readCredentials(_ request: Request) async throws -> (String, String) {
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, allowed: ["email", "password"])
        let email = body.string("email")
        let password = body.string("password")
        var errors = body.errors
        switch Credentials.validate(email: email, password: password) {
        case .success(let valid) where errors.isEmpty:
            return (valid.email, valid.password)
        case .success:
            break
        case .failure(let invalid):
            // A field already reported as the wrong type is not reported again as missing.
            errors += invalid.errors.filter { error in !errors.contains { $0.field == error.field } }
        }
        throw Problem.validation(errors)
    }

    private func tokenResponse(for userID: UUID, now: Date) -> TokenResponse {
        TokenResponse(
            accessToken: tokens.issue(userID: userID, now: now), tokenType: "Bearer",
            expiresIn: Int(tokens.lifetime), userId: userID)
    }
}
