import Contracts
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import Persistence
import ServiceRuntime

/// The answer of every route that signs a user in.
struct TokenResponse: Codable, Sendable, Equatable {
    var accessToken: String
    var refreshToken: String
    var tokenType: String
    var expiresIn: Int
    var userId: UUID
}

/// `/v1/auth/*`: register, login, guest, link, refresh, logout and logout everywhere (the
/// routes are listed in `GatewayAPI`).
struct AuthRoutes: Sendable {
    let runtime: KindredRuntime
    let tokens: AccessTokens
    let authenticator: Authenticator
    let bcryptCost: Int
    /// Failed logins per account, whatever address they come from: a botnet spreading its
    /// guesses over many addresses still gets `limit` per window for one e-mail.
    let failedLogins: FailedLoginLimiter
    let now: @Sendable () -> Date
    /// A real hash at the configured cost to compare against when the e-mail is unknown,
    /// so both failures take the same time and give the same answer.
    let decoyHash: String

    static let bodyLimit = 4 * 1024

    init(
        runtime: KindredRuntime, tokens: AccessTokens, authenticator: Authenticator, bcryptCost: Int,
        failedLogins: FailedLoginLimiter, now: @escaping @Sendable () -> Date
    ) {
        self.failedLogins = failedLogins
        self.runtime = runtime
        self.tokens = tokens
        self.authenticator = authenticator
        self.bcryptCost = bcryptCost
        self.now = now
        self.decoyHash = Bcrypt.hash(UUID().uuidString, cost: UInt8(bcryptCost))
    }

    /// How a replayed sign-in answers (`Idempotency-Key`): new tokens for the same user.
    var signInReplay: Idempotency.Replay { .signIn(signInAgain) }

    /// The replay of a request that signed `userID` in: new tokens, if the account may still
    /// sign in.
    func signInAgain(_ userID: UUID, status: HTTPResponse.Status) async throws -> Answer {
        let time = now()
        let answer = try await database {
            try await runtime.pool.transaction { connection -> TokenResponse? in
                guard let account = try AccountStore.find(userID: userID, on: connection), !account.isBlocked
                else { return nil }
                return try signIn(userID, familyID: UUID(), at: time, on: connection)
            }
        }
        guard let answer else { throw Problem.suspended }
        return try jsonResponse(answer, status: status)
    }

    func register(_ request: Request) async throws -> Answer {
        let (email, password) = try await readNewCredentials(request)
        let hash = await hashed(password)
        return try await createAccount(request) { userID, time, connection in
            try AccountStore.insert(userID: userID, email: email, passwordHash: hash, at: time, on: connection)
            return UserRegistered(userId: userID, email: email, registeredAt: time)
        }
    }

    func login(_ request: Request) async throws -> Answer {
        // Only the shape is checked here: a password that breaks the registration rules
        // simply does not match, and says no more than any wrong password does.
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .credentials)
        let email = body.string("email")
        let password = body.string("password")
        var errors = body.errors
        for (field, value) in [("email", email), ("password", password)]
        where value == nil && !errors.contains(where: { $0.field == field }) {
            errors.append(FieldError(field: field, message: "is required"))
        }
        guard errors.isEmpty, let email, let password else { throw Problem.validation(errors) }
        let normalisedEmail = Credentials.normalise(email)
        // Counted before the password is checked (and for unknown e-mails alike, so the answer
        // tells nothing about which exist): concurrent guesses cannot all slip past the count.
        let accountKey = FailedLoginLimiter.key(forEmail: normalisedEmail)
        if case .locked(let retryAfter) = failedLogins.attempt(accountKey) {
            throw Problem(
                status: .tooManyRequests, type: "too-many-failed-logins",
                title: "Too many failed logins for this account",
                detail: "wait before trying again", retryAfter: retryAfter)
        }
        let account = try await database {
            try await runtime.pool.withConnection { try AccountStore.find(email: normalisedEmail, on: $0) }
        }
        let hash = account?.passwordHash ?? decoyHash
        let matches = await offloaded { Bcrypt.verify(password, hash: hash) }
        guard let account, account.passwordHash != nil, matches else { throw Problem.badCredentials }
        failedLogins.recordSuccess(accountKey)
        guard !account.isBlocked else { throw Problem.suspended }
        let time = now()
        let answer = try await database {
            try await runtime.pool.transaction { try signIn(account.userID, familyID: UUID(), at: time, on: $0) }
        }
        return try jsonResponse(answer)
    }

    /// A guest account: a display name now, an e-mail and password later (`link`).
    func guest(_ request: Request) async throws -> Answer {
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .guest)
        let displayName = body.string("displayName")?.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors = body.errors
        if displayName == nil, errors.isEmpty {
            errors.append(FieldError(field: "displayName", message: "is required"))
        } else if let displayName, !ProfileRules.displayNameLength.contains(displayName.count) {
            errors.append(FieldError(field: "displayName", message: "must be 1 to 50 characters"))
        }
        guard errors.isEmpty, let displayName else { throw Problem.validation(errors) }
        return try await createAccount(request) { userID, time, connection in
            try AccountStore.insertGuest(userID: userID, displayName: displayName, at: time, on: connection)
            return GuestRegistered(userId: userID, displayName: displayName, registeredAt: time)
        }
    }

    /// A signed-in guest becomes a member with an e-mail and password, keeping its user id.
    /// The guest's refresh tokens are revoked; the answer carries new ones.
    func link(_ request: Request) async throws -> Answer {
        let userID = try authenticator.userID(of: request)
        let (email, password) = try await readNewCredentials(request)
        let hash = await hashed(password)
        let time = now()
        let correlationID = RequestID.of(request)
        let answer: TokenResponse? = try await database {
            try await runtime.transaction { connection in
                guard
                    let sequence = try AccountStore.link(
                        userID: userID, email: email, passwordHash: hash, on: connection)
                else { return nil }
                let linked = Envelope(
                    source: .gateway, time: time, subject: userID.uuidString,
                    data: AccountLinked(userId: userID, email: email, sequence: sequence), correlationID: correlationID)
                try Outbox.append(linked, on: connection)
                try AccountStore.revokeAll(userID: userID, at: time, on: connection)
                return try signIn(userID, familyID: UUID(), at: time, on: connection)
            }
        }
        guard let answer else {
            throw Problem(
                status: .conflict, type: "not-a-guest", title: "This account already has an e-mail and password")
        }
        return try jsonResponse(answer)
    }

    /// Rotates a refresh token. A token used twice revokes its whole family.
    func refresh(_ request: Request) async throws -> Answer {
        let token = try await readRefreshToken(request)
        let hash = RefreshTokens.hash(token)
        let time = now()
        enum Outcome: Sendable {
            case signedIn(TokenResponse)
            case refused(RefreshTokens.Verdict)
            case suspended
        }
        let outcome = try await database {
            try await runtime.pool.transaction { connection -> Outcome in
                let stored = try AccountStore.lockRefreshToken(hash: hash, on: connection)
                let verdict = RefreshTokens.verdict(
                    found: stored != nil, usedAt: stored?.usedAt, revokedAt: stored?.revokedAt,
                    expiresAt: stored?.expiresAt, now: time)
                guard let stored, verdict == .rotate else {
                    // Committed, not rolled back: the revocation must stick.
                    if let stored, verdict == .reused {
                        try AccountStore.revokeFamily(stored.familyID, at: time, on: connection)
                    }
                    return .refused(verdict)
                }
                guard let account = try AccountStore.find(userID: stored.userID, on: connection), !account.isBlocked
                else {
                    try AccountStore.revokeFamily(stored.familyID, at: time, on: connection)
                    return .suspended
                }
                try AccountStore.markUsed(hash: hash, at: time, on: connection)
                return .signedIn(try signIn(stored.userID, familyID: stored.familyID, at: time, on: connection))
            }
        }
        switch outcome {
        case .signedIn(let answer):
            return try jsonResponse(answer)
        case .suspended:
            throw Problem.suspended
        case .refused(.reused):
            runtime.logger.warning("a refresh token was used twice; its family is revoked")
            throw Problem(
                status: .unauthorized, type: "refresh-token-reused",
                title: "This refresh token was already used", detail: "every session it started is signed out")
        case .refused:
            throw Problem(status: .unauthorized, type: "bad-refresh-token", title: "The refresh token is not valid")
        }
    }

    /// Signs this device out: the refresh token's family is revoked. Answers 204 whether
    /// or not the token was known, so it tells nothing about other tokens.
    func logout(_ request: Request) async throws -> Answer {
        let hash = RefreshTokens.hash(try await readRefreshToken(request))
        let time = now()
        try await database {
            try await runtime.pool.transaction { connection in
                if let stored = try AccountStore.lockRefreshToken(hash: hash, on: connection) {
                    try AccountStore.revokeFamily(stored.familyID, at: time, on: connection)
                }
            }
        }
        return Answer(status: .noContent)
    }

    /// Signs the user out everywhere: every refresh token is revoked.
    func logoutEverywhere(_ request: Request) async throws -> Answer {
        let userID = try authenticator.userID(of: request)
        let time = now()
        try await database {
            try await runtime.pool.transaction { try AccountStore.revokeAll(userID: userID, at: time, on: $0) }
        }
        return Answer(status: .noContent)
    }

    // MARK: Helpers

    /// A new account of a new user id: `insert` stores it and returns the event that
    /// announces it, published with the sign-in in one transaction. Answers 201.
    private func createAccount<E: Event>(
        _ request: Request, insert: @escaping @Sendable (UUID, Date, DatabaseConnection) throws -> E
    ) async throws -> Answer {
        let userID = UUID()
        let time = now()
        let correlationID = RequestID.of(request)
        let answer = try await database {
            try await runtime.transaction { connection in
                let event = try insert(userID, time, connection)
                try Outbox.append(
                    Envelope(
                        source: .gateway, time: time, subject: userID.uuidString, data: event,
                        correlationID: correlationID),
                    on: connection)
                return try signIn(userID, familyID: UUID(), at: time, on: connection)
            }
        }
        return try jsonResponse(answer, status: .created)
    }

    /// Issues an access token and a refresh token of `familyID`, storing the latter.
    private func signIn(_ userID: UUID, familyID: UUID, at time: Date, on connection: DatabaseConnection) throws
        -> TokenResponse
    {
        let refresh = RefreshTokens.mint()
        try AccountStore.insertRefreshToken(
            hash: refresh.hash, familyID: familyID, userID: userID, at: time, on: connection)
        return TokenResponse(
            accessToken: tokens.issue(
                userID: userID, roles: try AccountStore.roles(userID: userID, on: connection), now: time),
            refreshToken: refresh.token, tokenType: "Bearer",
            expiresIn: Int(tokens.lifetime), userId: userID)
    }

    private func hashed(_ password: String) async -> String {
        let cost = UInt8(bcryptCost)
        return await offloaded { Bcrypt.hash(password, cost: cost) }
    }

    /// Runs database work, turning its failures into answers: a taken e-mail is 409, an
    /// unreachable database 503.
    private func database<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await unavailableWhenDatabaseIsDown("the account database", work)
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw Problem(
                status: .conflict, type: "email-taken", title: "This e-mail is already registered",
                detail: "sign in instead, or use another address")
        }
    }

    /// The e-mail and password of a registration or link, checked against the rules.
    private func readNewCredentials(_ request: Request) async throws -> (String, String) {
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .credentials)
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

    private func readRefreshToken(_ request: Request) async throws -> String {
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .refresh)
        let token = body.string("refreshToken")
        var errors = body.errors
        if token == nil, errors.isEmpty { errors.append(FieldError(field: "refreshToken", message: "is required")) }
        guard errors.isEmpty, let token else { throw Problem.validation(errors) }
        return token
    }
}
