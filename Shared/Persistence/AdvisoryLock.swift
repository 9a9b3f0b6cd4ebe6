extension DatabaseConnection {
    /// Waits for the transaction-scoped advisory lock named `key`, then holds it until the
    /// transaction ends: serialises work on something that has no row to lock yet (a
    /// reporter's count of reports, a user's photos before the next one is inserted).
    /// Name keys by what they guard, `reports-of:<id>`, so two uses never share one.
    public func lockUntilTransactionEnds(_ key: String) throws {
        try execute(prepared: "SELECT pg_advisory_xact_lock(hashtextextended($1, 0)) AS locked", [key])
    }
}
