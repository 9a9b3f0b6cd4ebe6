import Contracts
import Foundation

/// Whether a location change is taken, without I/O: at most one a minute
/// (`LocationRules.minimumSecondsBetweenChanges`), and a move faster than
/// `LocationRules.maxPlausibleSpeedKmPerHour` since the last change is taken but flagged.
public enum LocationPolicy {
    public enum Decision: Sendable, Equatable {
        case accepted(implausibleJump: Bool)
        /// Too soon after the last change; the seconds until one is taken.
        case tooSoon(retryAfterSeconds: Int)
    }

    public static func decide(from previous: (cell: GridCell, at: Date)?, to cell: GridCell, at now: Date) -> Decision {
        guard let previous else { return .accepted(implausibleJump: false) }
        let elapsed = now.timeIntervalSince(previous.at)
        let minimum = Double(LocationRules.minimumSecondsBetweenChanges)
        if elapsed < minimum {
            return .tooSoon(retryAfterSeconds: max(1, Int((minimum - elapsed).rounded(.up))))
        }
        let kilometres = LocationGrid.distanceKm(previous.cell, cell)
        // Cells are about 1 km: a move of a cell or two is never a jump, however quick.
        let speed = kilometres <= 2 * LocationGrid.cellSizeKm ? 0 : kilometres / (elapsed / 3600)
        return .accepted(implausibleJump: speed > LocationRules.maxPlausibleSpeedKmPerHour)
    }
}
