import Foundation

/// A cell of the location grid: the only form in which the suite keeps or sends where
/// someone is. The gateway snaps a client's point to its cell before anything else sees
/// it; the point itself is dropped there.
///
/// The grid: the Earth is cut into rows of `LocationGrid.rowHeightDegrees` of latitude
/// (1 km north–south: 1/111.195 of a degree, on a sphere of mean radius 6371.0088 km), and
/// each row into as many equal columns as make them about 1 km wide at the row's middle
/// latitude (at least one column, so a polar row is a single cell). A cell is about 1 km by
/// 1 km everywhere; its centre stands for every point in it.
public struct GridCell: Codable, Sendable, Hashable, CustomStringConvertible {
    /// 0 at the South Pole, increasing northwards.
    public var row: Int
    /// 0 at longitude -180°, increasing eastwards.
    public var column: Int

    public init(row: Int, column: Int) {
        self.row = row
        self.column = column
    }

    public var description: String { "\(row):\(column)" }

    /// Whether this names a cell of the grid (an event from elsewhere may not).
    public var isValid: Bool {
        (0..<LocationGrid.rowCount).contains(row) && (0..<LocationGrid.columnCount(ofRow: row)).contains(column)
    }
}

/// The grid of `GridCell`, and distances between cells, without I/O.
public enum LocationGrid {
    /// Mean Earth radius (IUGG), km.
    public static let earthRadiusKm = 6371.0088
    /// Kilometres per degree of latitude on that sphere.
    static let kmPerDegree = earthRadiusKm * Double.pi / 180
    /// The cell size, km (north–south exactly; east–west at the row's middle).
    public static let cellSizeKm = 1.0
    public static let rowHeightDegrees = cellSizeKm / kmPerDegree
    public static let rowCount = Int((180 / rowHeightDegrees).rounded(.up))

    /// The columns of a row: about 1 km wide at its middle latitude.
    public static func columnCount(ofRow row: Int) -> Int {
        let middle = (-90 + (Double(row) + 0.5) * rowHeightDegrees) * Double.pi / 180
        let circumference = 2 * Double.pi * earthRadiusKm * cos(middle)
        return max(1, Int((circumference / cellSizeKm).rounded(.down)))
    }

    /// The cell of a point; nil for a latitude outside -90...90, a longitude outside
    /// -180...180 or a value that is not finite.
    public static func cell(latitude: Double, longitude: Double) -> GridCell? {
        guard latitude.isFinite, longitude.isFinite, (-90.0...90.0).contains(latitude),
            (-180.0...180.0).contains(longitude)
        else { return nil }
        let row = min(rowCount - 1, Int(((latitude + 90) / rowHeightDegrees).rounded(.down)))
        let columns = columnCount(ofRow: row)
        // 180° is the same meridian as -180°: it wraps to column 0.
        let column = Int(((longitude + 180) / 360 * Double(columns)).rounded(.down)) % columns
        return GridCell(row: row, column: column)
    }

    /// The centre of a cell, in degrees.
    public static func centre(of cell: GridCell) -> (latitude: Double, longitude: Double) {
        let latitude = -90 + (Double(cell.row) + 0.5) * rowHeightDegrees
        let columns = columnCount(ofRow: cell.row)
        let longitude = -180 + (Double(cell.column) + 0.5) * 360 / Double(columns)
        return (min(90, latitude), longitude)
    }

    /// The great-circle distance between two cells' centres, km (haversine).
    public static func distanceKm(_ a: GridCell, _ b: GridCell) -> Double {
        if a == b { return 0 }
        let (lat1, lon1) = centre(of: a)
        let (lat2, lon2) = centre(of: b)
        let radians = Double.pi / 180
        let dLat = (lat2 - lat1) * radians
        let dLon = (lon2 - lon1) * radians
        let h =
            sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * radians) * cos(lat2 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusKm * asin(min(1, h.squareRoot()))
    }
}

/// What another person is shown of the distance to someone: a band, never a number of
/// kilometres, computed from the two cells. "under 2 km", "2–5 km", then 5 km steps
/// ("5–10 km" … "95–100 km"), and "over 100 km".
public struct DistanceBucket: Codable, Sendable, Equatable {
    public var label: String
    /// The band's lower edge, km (0 for the first).
    public var fromKm: Int
    /// The band's upper edge, km; nil for "over 100 km".
    public var toKm: Int?

    public init(label: String, fromKm: Int, toKm: Int?) {
        self.label = label
        self.fromKm = fromKm
        self.toKm = toKm
    }

    /// The band of a distance between cell centres.
    public init(distanceKm: Double) {
        switch distanceKm {
        case ..<2: self.init(label: "under 2 km", fromKm: 0, toKm: 2)
        case ..<5: self.init(label: "2–5 km", fromKm: 2, toKm: 5)
        case ..<100:
            let from = Int(distanceKm / 5) * 5
            self.init(label: "\(from)–\(from + 5) km", fromKm: from, toKm: from + 5)
        default: self.init(label: "over 100 km", fromKm: 100, toKm: nil)
        }
    }

    /// The band between two people's cells.
    public static func between(_ a: GridCell, _ b: GridCell) -> DistanceBucket {
        DistanceBucket(distanceKm: LocationGrid.distanceKm(a, b))
    }
}
