import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `AttachmentAssessmentSubmitted` → scored (`AttachmentScoring`), kept with the earlier
/// ones (the latest counts), `AttachmentAssessed` and `ProfileUpdated` published, and
/// `AttachmentAssessed` answers; wrong answers are named and nothing is kept.
struct AttachmentAssessmentSubmittedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<AttachmentAssessmentSubmitted>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<AttachmentAssessed, RequestFailed> {
        let userID = request.data.userId
        let score: AttachmentScoring.Score
        switch AttachmentScoring.score(request.data.answers) {
        case .failure(let failure): return .failure(failure)
        case .success(let scored): score = scored
        }
        let time = now()
        guard try ProfileStore.lock(userID: userID, on: database) != nil else {
            return .failure(.noProfile)
        }
        let id = UUID.random()
        try AssessmentStore.insert(
            id: id, userID: userID, answers: request.data.answers, score: score, at: time, on: database)
        guard let profile = try ProfileStore.setAttachmentStyle(score.style, userID: userID, at: time, on: database)
        else { return .failure(.noProfile) }
        let assessed = AttachmentAssessed(
            userId: userID, assessmentId: id, anxiety: score.anxiety, avoidance: score.avoidance, style: score.style,
            explanation: score.explanation, takenAt: time, sequence: profile.sequence)
        try Outbox.append(
            Envelope(causedBy: request, source: .profile, time: time, subject: userID.uuidString, data: assessed),
            on: database)
        _ = try ProfileChanges.published(profile, causedBy: request, at: time, on: database)
        return .success(assessed)
    }
}
