import Contracts
import Persistence
import ServiceRuntime

/// `ReportsListRequested` → `ReportsListed` (the gateway let only moderators ask). It only reads.
struct ReportsListRequestedHandler: RequestHandler {
    static let isReadOnly = true
    static let statuses = ["open", "dismissed", "actioned", "superseded", "all"]

    func handle(
        _ request: Envelope<ReportsListRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ReportsListed, RequestFailed> {
        guard Self.statuses.contains(request.data.status) else {
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "unknown status",
                    fieldErrors: [
                        FieldError(field: "status", message: "must be one of \(Self.statuses.joined(separator: ", "))")
                    ]))
        }
        let reports = try ReportStore.list(status: request.data.status, limit: ReportsListed.limit, on: database)
        return .success(ReportsListed(reports: reports))
    }
}
