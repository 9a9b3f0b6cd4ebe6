import Contracts
import Foundation
import Persistence

/// The SQL of `attachment_assessments`: every assessment a user took (the latest counts).
enum AssessmentStore {
    static func insert(
        id: UUID, userID: UUID, answers: [Int], score: AttachmentScoring.Score, at time: Date,
        on connection: DatabaseConnection
    ) throws {
        let array = "{" + answers.map(String.init).joined(separator: ",") + "}"
        try connection.execute(
            prepared: """
                INSERT INTO attachment_assessments (id, user_id, answers, anxiety, avoidance, style, taken_at)
                VALUES ($1, $2, $3::smallint[], $4::double precision, $5::double precision, $6, $7)
                """,
            [id, userID, array, String(score.anxiety), String(score.avoidance), score.style.rawValue, time])
    }

    static func count(userID: UUID, on connection: DatabaseConnection) throws -> Int {
        try connection.execute(
            prepared: "SELECT count(*) AS n FROM attachment_assessments WHERE user_id = $1", [userID]
        ).first?.int("n") ?? 0
    }

    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(prepared: "DELETE FROM attachment_assessments WHERE user_id = $1", [userID])
    }
}
