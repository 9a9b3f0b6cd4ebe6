import Contracts
import Foundation
import TestSupport
import Testing

@Suite("Location grid and distance bands")
struct LocationGridTests {
    /// Great-circle distance between two points, km.
    func kilometres(_ a: (Double, Double), _ b: (Double, Double)) -> Double {
        let r = Double.pi / 180
        let h =
            pow(sin((b.0 - a.0) * r / 2), 2) + cos(a.0 * r) * cos(b.0 * r) * pow(sin((b.1 - a.1) * r / 2), 2)
        return 2 * LocationGrid.earthRadiusKm * asin(min(1, h.squareRoot()))
    }

    @Test("cells are about 1 km across at every latitude, and a point's cell holds it")
    func cellSize() throws {
        var random = SplitMix64(state: 7)
        for _ in 0..<5_000 {
            let latitude = Double.random(in: -84...84, using: &random)
            let longitude = Double.random(in: -180..<180, using: &random)
            let cell = try #require(LocationGrid.cell(latitude: latitude, longitude: longitude))
            #expect(cell.isValid)
            let centre = LocationGrid.centre(of: cell)
            // Half a cell's diagonal, with room for the curvature at high latitudes.
            #expect(kilometres((latitude, longitude), centre) < 0.75, "\(latitude),\(longitude) → \(cell)")
            #expect(LocationGrid.cell(latitude: centre.latitude, longitude: centre.longitude) == cell)
        }
        let width =
            360 / Double(LocationGrid.columnCount(ofRow: LocationGrid.rowCount / 2)) * LocationGrid.earthRadiusKm
            * Double.pi / 180
        #expect(abs(width - 1) < 0.01)
    }

    @Test("the edges of the world: poles, the antimeridian, out of range")
    func edges() {
        #expect(LocationGrid.cell(latitude: 90, longitude: 0)?.isValid == true)
        #expect(LocationGrid.cell(latitude: -90, longitude: 0)?.isValid == true)
        #expect(LocationGrid.cell(latitude: 0, longitude: 180) == LocationGrid.cell(latitude: 0, longitude: -180))
        #expect(LocationGrid.cell(latitude: 90.0001, longitude: 0) == nil)
        #expect(LocationGrid.cell(latitude: 0, longitude: -180.5) == nil)
        #expect(LocationGrid.cell(latitude: .nan, longitude: 0) == nil)
        #expect(LocationGrid.cell(latitude: 0, longitude: .infinity) == nil)
        #expect(!GridCell(row: -1, column: 0).isValid)
        #expect(!GridCell(row: 0, column: 5_000).isValid)
    }

    @Test("bands: under 2 km, 2–5 km, 5 km steps, over 100 km")
    func bands() {
        #expect(DistanceBucket(distanceKm: 0).label == "under 2 km")
        #expect(DistanceBucket(distanceKm: 1.99).label == "under 2 km")
        #expect(DistanceBucket(distanceKm: 2).label == "2–5 km")
        #expect(DistanceBucket(distanceKm: 5).label == "5–10 km")
        #expect(DistanceBucket(distanceKm: 12.3) == DistanceBucket(label: "10–15 km", fromKm: 10, toKm: 15))
        #expect(DistanceBucket(distanceKm: 99.9).label == "95–100 km")
        #expect(DistanceBucket(distanceKm: 100) == DistanceBucket(label: "over 100 km", fromKm: 100, toKm: nil))
        #expect(DistanceBucket(distanceKm: 19_000).label == "over 100 km")
    }

    /// Trilateration: observers who know their own positions and read the band to a target
    /// learn which cells the target may be in. Whatever three observers around the target
    /// do, every point of the target's cell gives each of them the same answer: they cannot
    /// tell two positions in one cell apart, so they cannot narrow the target below it.
    @Test("three observers around a user cannot narrow them below their cell")
    func trilateration() throws {
        var random = SplitMix64(state: 42)
        for _ in 0..<200 {
            let target = (Double.random(in: -60...60, using: &random), Double.random(in: -179...179, using: &random))
            let targetCell = try #require(LocationGrid.cell(latitude: target.0, longitude: target.1))
            // Three observers around the target, 0.5 to 40 km away, at spread bearings.
            var observers: [GridCell] = []
            for index in 0..<3 {
                let bearing = (Double(index) * 120 + Double.random(in: -30...30, using: &random)) * Double.pi / 180
                let distance = Double.random(in: 0.5...40, using: &random)
                let latitude = target.0 + distance / 111.195 * cos(bearing)
                let longitude = target.1 + distance / (111.195 * cos(target.0 * Double.pi / 180)) * sin(bearing)
                observers.append(try #require(LocationGrid.cell(latitude: latitude, longitude: longitude)))
            }
            let answers = observers.map { DistanceBucket.between($0, targetCell) }
            // Any other point of the same cell: identical answers to all three.
            let centre = LocationGrid.centre(of: targetCell)
            for _ in 0..<20 {
                let latitude =
                    centre.latitude + Double.random(in: -0.45...0.45, using: &random) * LocationGrid.rowHeightDegrees
                let width = 360 / Double(LocationGrid.columnCount(ofRow: targetCell.row))
                let longitude = centre.longitude + Double.random(in: -0.45...0.45, using: &random) * width
                let cell = try #require(LocationGrid.cell(latitude: latitude, longitude: longitude))
                #expect(cell == targetCell)
                #expect(observers.map { DistanceBucket.between($0, cell) } == answers)
            }
            // The cells the answers allow around it always include the true one.
            let consistent = (-3...3).flatMap { dr in
                (-3...3).map { dc in GridCell(row: targetCell.row + dr, column: targetCell.column + dc) }
            }.filter { cell in observers.map { DistanceBucket.between($0, cell) } == answers }
            #expect(consistent.contains(targetCell))
        }
    }

    @Test("a band says nothing finer than its edges")
    func bandsHideKilometres() throws {
        let a = try #require(LocationGrid.cell(latitude: 48.8566, longitude: 2.3522))
        let near = try #require(LocationGrid.cell(latitude: 48.8566 + 0.06, longitude: 2.3522))
        let far = try #require(LocationGrid.cell(latitude: 48.8566 + 0.075, longitude: 2.3522))
        #expect(DistanceBucket.between(a, near) == DistanceBucket.between(a, far))
        #expect(DistanceBucket.between(a, a).label == "under 2 km")
    }
}
