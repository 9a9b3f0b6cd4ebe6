import Persistence

/// The newest `sequence` a projection holds per aggregate, so that events arriving out of
/// order (retries, several consumers, replays) never overwrite newer state with older.
public enum ProjectionPosition {
    /// Moves `projection`'s position for `aggregate` to `sequence` inside the caller's
    /// transaction. Returns false, and changes nothing, when it already holds that
    /// sequence or a newer one: the caller must then ignore the event.
    public static func advance(
        projection: String, aggregate: String, to sequence: Int64, on connection: DatabaseConnection
    ) throws -> Bool {
        try ProjectionPositionStore.advance(
            projection: projection, aggregate: aggregate, to: sequence, on: connection)
    }
}
