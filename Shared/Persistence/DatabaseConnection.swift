import CLibPQ
import Foundation

/// A failed database operation.
public struct DatabaseError: Error, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The server could not be reached or the connection broke; retrying may work.
        case connection
        /// The server rejected the statement (see `sqlState`).
        case statement
    }

    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one (`23505` is a unique violation).
    public let sqlState: String?
    public let message: String

    public var description: String {
        "\(sqlState.map { "[\($0)] " } ?? "")\(message)"
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
}

/// One libpq connection. It is lent by `DatabasePool` to one caller at a time and only
/// used on that lending's thread, never on Swift's cooperative pool.
///
/// `@unchecked Sendable`: the pool hands a connection to exactly one closure at a time and
/// runs that closure on the connection's own serial dispatch queue, so the `PGconn` is
/// never touched by two threads at once (libpq's rule).
public final class DatabaseConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Statements prepared on this session, by SQL text; a new session starts empty.
    private var preparedStatements: [String: String] = [:]
    /// A transaction `beginTransaction` opened whose BEGIN is not sent yet: it goes out with
    /// the transaction's first statement, in one round trip.
    private var beginPending = false
    /// Between `beginTransaction` and its commit or rollback.
    private var inTransaction = false
    private let connectionString: String
    private let defaults: ConnectionDefaults
    let queue: DispatchQueue

    init(connectionString: String, defaults: ConnectionDefaults, label: String) {
        self.connectionString = connectionString
        self.defaults = defaults
        self.queue = DispatchQueue(label: label)
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Connects if not connected, or reconnects after the connection broke.
    func ensureConnected() throws(DatabaseError) {
        if let handle, PQstatus(handle) == CONNECTION_OK { return }
        if let handle { PQfinish(handle) }
        preparedStatements = [:]
        handle = defaults.connect(connectionString)
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            throw DatabaseError(kind: .connection, sqlState: nil, message: Self.trim(message))
        }
        // Keep NOTICE messages off stderr, and make every session speak ISO dates in UTC,
        // which `Row.date` parses.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        _ = try execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'")
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any SQLParameter] = [])
        throws(DatabaseError) -> QueryResult
    {
        let handle = try connectedHandle()
        let texts = try Self.texts(of: parameters)
        try checkTransactionGoesOn(handle)
        if beginPending && !parameters.isEmpty { return try pipelined([.text(sql, texts)], on: handle) }
        let result: OpaquePointer?
        if beginPending {
            // Text without parameters may hold several statements (a migration), which
            // pipeline mode cannot send: BEGIN joins them in one simple query instead.
            beginPending = false
            result = PQexec(handle, "BEGIN; " + sql)
        } else if parameters.isEmpty {
            result = PQexec(handle, sql)
        } else {
            result = withCStrings(texts) { pointers in
                PQexecParams(handle, sql, Int32(pointers.count), nil, pointers, nil, nil, 0)
            }
        }
        return try finish(result, on: handle)
    }

    /// Runs one statement as `execute` does, through a statement this connection prepared
    /// the first time it ran it: the server parses and plans it once per connection, not
    /// on every call. For the hot statements of a service (a profile read, the inbox claim,
    /// the outbox append); their SQL must be a constant, as the cache is keyed by it.
    @discardableResult
    public func execute(prepared sql: String, _ parameters: [any SQLParameter] = [])
        throws(DatabaseError) -> QueryResult
    {
        let (handle, name, texts) = try prepare(sql, parameters)
        if beginPending { return try pipelined([.prepared(name, texts)], on: handle) }
        return try runPrepared(name, texts, on: handle)
    }

    /// Runs the last statement of a transaction (a prepared one, as `execute(prepared:)`)
    /// and commits, in one round trip: COMMIT goes out with it and runs only if it
    /// succeeded. Outside a transaction it is `execute(prepared:)`.
    @discardableResult
    package func executeAndCommit(prepared sql: String, _ parameters: [any SQLParameter] = [])
        throws(DatabaseError) -> QueryResult
    {
        let (handle, name, texts) = try prepare(sql, parameters)
        guard beginPending || PQtransactionStatus(handle) == PQTRANS_INTRANS else {
            return try runPrepared(name, texts, on: handle)
        }
        let results = try pipelinedResults([.prepared(name, texts), .text("COMMIT", [])], on: handle)
        return results[results.count - 2]
    }

    /// Opens a transaction. Nothing is sent yet: BEGIN goes out with its first statement.
    func beginTransaction() {
        beginPending = true
        inTransaction = true
    }

    /// Commits the open transaction; nothing to send if no statement ran in it, or if
    /// `executeAndCommit` committed it already. A transaction a failed statement aborted
    /// (its error caught in the body) is rolled back and reported, never taken for
    /// committed: PostgreSQL answers COMMIT there with a rollback, not an error.
    func commitTransaction() throws(DatabaseError) {
        defer { inTransaction = false }
        if beginPending {
            beginPending = false
            return
        }
        let handle = try connectedHandle()
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE:
            return
        case PQTRANS_INERROR:
            _ = try? execute("ROLLBACK")
            throw DatabaseError(
                kind: .statement, sqlState: "25P02",
                message: "a statement of the transaction failed: it was rolled back, not committed")
        default:
            try execute("COMMIT")
        }
    }

    /// Rolls the open transaction back, if the server has one (after a failed statement,
    /// or a failed commit, it may have ended already); never throws.
    func rollbackTransaction() {
        defer { inTransaction = false }
        if beginPending {
            beginPending = false
            return
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        let status = PQtransactionStatus(handle)
        if status == PQTRANS_INTRANS || status == PQTRANS_INERROR { _ = try? execute("ROLLBACK") }
    }

    /// Inside a transaction whose server side ended (`executeAndCommit` committed it, or
    /// its `BEGIN; …` text failed as a whole), a statement would run on its own, in
    /// autocommit: refused instead.
    private func checkTransactionGoesOn(_ handle: OpaquePointer) throws(DatabaseError) {
        guard inTransaction, !beginPending, PQtransactionStatus(handle) == PQTRANS_IDLE else { return }
        throw DatabaseError(
            kind: .statement, sqlState: "25000",
            message: "the transaction has ended already (committed with its last statement, or its BEGIN failed)")
    }

    /// What a prepared statement runs with: the session, the statement's name on it
    /// (prepared now if this session has not yet) and the parameters as text.
    private func prepare(_ sql: String, _ parameters: [any SQLParameter]) throws(DatabaseError)
        -> (handle: OpaquePointer, name: String, texts: [String?])
    {
        let handle = try connectedHandle()
        let texts = try Self.texts(of: parameters)
        try checkTransactionGoesOn(handle)
        if let known = preparedStatements[sql] { return (handle, known, texts) }
        let name = "kindred_\(preparedStatements.count + 1)"
        _ = try finish(PQprepare(handle, name, sql, Int32(texts.count), nil), on: handle)
        preparedStatements[sql] = name
        return (handle, name, texts)
    }

    /// Runs a prepared statement on its own, outside a pipeline.
    private func runPrepared(_ name: String, _ texts: [String?], on handle: OpaquePointer) throws(DatabaseError)
        -> QueryResult
    {
        let result = withCStrings(texts) { pointers in
            PQexecPrepared(handle, name, Int32(pointers.count), pointers, nil, nil, 0)
        }
        return try finish(result, on: handle)
    }

    /// One statement of a pipeline: SQL with parameters, or a prepared statement's name.
    private enum PipelinedStatement {
        case text(String, [String?])
        case prepared(String, [String?])
    }

    /// Sends `statements` (after the pending BEGIN, if any) in one round trip and returns
    /// the last one's result.
    private func pipelined(_ statements: [PipelinedStatement], on handle: OpaquePointer) throws(DatabaseError)
        -> QueryResult
    {
        let results = try pipelinedResults(statements, on: handle)
        return results[results.count - 1]
    }

    /// libpq's pipeline mode: every statement is sent, then one sync, then the results are
    /// read in order. After a statement fails the server skips the rest up to the sync (a
    /// COMMIT behind it never runs) and the first error is thrown. The pending BEGIN, if
    /// any, goes first. A connection whose pipeline broke halfway is closed: the pool opens
    /// a new one for the next caller.
    private func pipelinedResults(_ statements: [PipelinedStatement], on handle: OpaquePointer)
        throws(DatabaseError) -> [QueryResult]
    {
        var statements = statements
        if beginPending {
            beginPending = false
            statements.insert(.text("BEGIN", []), at: 0)
        }
        func broken() -> DatabaseError {
            // libpq also refuses a send for the caller's own mistakes (too many parameters)
            // with the connection still up: that is no reason to retry.
            let error = DatabaseError(
                kind: PQstatus(handle) == CONNECTION_OK ? .statement : .connection, sqlState: nil,
                message: Self.trim(String(cString: PQerrorMessage(handle))))
            abandonSession()
            return error
        }
        guard PQenterPipelineMode(handle) == 1 else { throw broken() }
        for statement in statements {
            let sent =
                switch statement {
                case .text(let sql, let texts):
                    withCStrings(texts) { PQsendQueryParams(handle, sql, Int32($0.count), nil, $0, nil, nil, 0) }
                case .prepared(let name, let texts):
                    withCStrings(texts) { PQsendQueryPrepared(handle, name, Int32($0.count), $0, nil, nil, 0) }
                }
            guard sent == 1 else { throw broken() }
        }
        guard PQpipelineSync(handle) == 1 else { throw broken() }
        var results: [QueryResult] = []
        var firstError: DatabaseError?
        for _ in statements {
            guard let result = PQgetResult(handle) else { throw broken() }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                firstError =
                    firstError
                    ?? DatabaseError(
                        kind: .statement, sqlState: nil,
                        message: "not run: a statement before it in its pipeline failed")
            } else {
                do throws(DatabaseError) {
                    results.append(try finish(result, on: handle))
                } catch {
                    firstError = firstError ?? error
                }
            }
            // Each statement's results end with a NULL.
            while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        guard let sync = PQgetResult(handle) else { throw broken() }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced, PQexitPipelineMode(handle) == 1 else { throw broken() }
        if let firstError { throw firstError }
        return results
    }

    /// Closes the session after its protocol state went wrong; `ensureConnected` opens a
    /// new one.
    private func abandonSession() {
        if let handle { PQfinish(handle) }
        handle = nil
        preparedStatements = [:]
    }

    private func connectedHandle() throws(DatabaseError) -> OpaquePointer {
        guard let handle else { throw DatabaseError(kind: .connection, sqlState: nil, message: "not connected") }
        return handle
    }

    /// The parameters as libpq's text values.
    private static func texts(of parameters: [any SQLParameter]) throws(DatabaseError) -> [String?] {
        let texts = parameters.map { $0.sqlText }
        // libpq takes NUL-terminated text: a NUL inside a value would silently cut it there.
        if let index = texts.firstIndex(where: { $0.map(hasNUL) == true }) {
            throw DatabaseError(
                kind: .statement, sqlState: "22021",
                message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold")
        }
        return texts
    }

    /// Whether the text holds a NUL byte: one memchr over its UTF-8 (a photo's upload is
    /// megabytes of base64, and a generic scan of them cost more than the rest of its insert).
    private static func hasNUL(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }
    }

    /// Reads a result, or throws the error it carries.
    private func finish(_ result: OpaquePointer?, on handle: OpaquePointer) throws(DatabaseError) -> QueryResult {
        guard let result else {
            throw DatabaseError(
                kind: .connection, sqlState: nil, message: Self.trim(String(cString: PQerrorMessage(handle))))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.trim(String(cString: PQresultErrorMessage(result)))
            let broken = PQstatus(handle) != CONNECTION_OK
            throw DatabaseError(kind: broken ? .connection : .statement, sqlState: sqlState, message: message)
        }
        return Self.read(result)
    }

    private static func read(_ result: OpaquePointer) -> QueryResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String: Int] = [:]
        for column in 0..<columnCount {
            columns[String(cString: PQfname(result, Int32(column)))] = column
        }
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return QueryResult(rows: rows, affectedRows: affected)
    }

    private static func trim(_ message: String) -> String {
        message.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Calls `body` with C strings for each text (NULL for nil) that live for the call.
private func withCStrings<R>(_ texts: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
    defer {
        for copy in copies { free(copy) }
    }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}

/// Limits every connection gets unless its connection string says otherwise: a database
/// that does not answer must not hold a caller (and a pooled connection) for minutes.
public struct ConnectionDefaults: Sendable, Equatable {
    /// libpq `connect_timeout`, in seconds.
    public var connectTimeoutSeconds: Int
    /// The server's `statement_timeout`, in milliseconds (0: none).
    public var statementTimeoutMilliseconds: Int

    public init(connectTimeoutSeconds: Int = 5, statementTimeoutMilliseconds: Int = 30_000) {
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
    }

    /// Connects with these defaults before the connection string: libpq processes the
    /// arrays in order and the last value of a keyword wins, so whatever the operator's
    /// string (keyword/value or URI, expanded from `dbname`) sets overrides them.
    ///
    /// A default the environment already sets (`PGCONNECT_TIMEOUT`, `PGOPTIONS`) is left to
    /// the environment, and no `options` are sent at all for a statement timeout of 0 (some
    /// poolers refuse the startup parameter).
    func connect(_ connectionString: String) -> OpaquePointer? {
        let environment = ProcessInfo.processInfo.environment
        var pairs: [(String, String)] = []
        if environment["PGCONNECT_TIMEOUT"] == nil { pairs.append(("connect_timeout", String(connectTimeoutSeconds))) }
        if environment["PGOPTIONS"] == nil, statementTimeoutMilliseconds > 0 {
            pairs.append(("options", "-c statement_timeout=\(statementTimeoutMilliseconds)"))
        }
        pairs.append(("dbname", connectionString))
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        let keywordPointers = keywords.map { $0.map { UnsafePointer($0) } } + [nil]
        let valuePointers = values.map { $0.map { UnsafePointer($0) } } + [nil]
        return PQconnectdbParams(keywordPointers, valuePointers, 1)
    }
}
