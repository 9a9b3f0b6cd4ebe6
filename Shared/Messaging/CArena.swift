import CRabbitMQ
import Glibc

/// Owns the C memory that one rabbitmq-c call borrows (strings, tables) and frees it when
/// the call is over. rabbitmq-c keeps pointers, not copies, so everything must outlive the
/// call; an arena per call makes that hard to get wrong.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        bytes(Array(string.utf8))
    }

    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        guard !data.isEmpty, let pointer = malloc(data.count) else {
            return amqp_bytes_t(len: 0, bytes: nil)
        }
        allocations.append(pointer)
        data.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: data.count) }
        }
        return amqp_bytes_t(len: data.count, bytes: pointer)
    }

    func table(_ values: [String: HeaderValue]) -> amqp_table_t {
        guard !values.isEmpty else { return amqp_empty_table }
        let size = MemoryLayout<amqp_table_entry_t>.stride * values.count
        guard let raw = malloc(size) else { return amqp_empty_table }
        allocations.append(raw)
        let entries = raw.bindMemory(to: amqp_table_entry_t.self, capacity: values.count)
        // Sorted so that the encoded table is the same for the same headers.
        for (index, (key, value)) in values.sorted(by: { $0.key < $1.key }).enumerated() {
            var entry = amqp_table_entry_t()
            entry.key = bytes(key)
            switch value {
            case .string(let text):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                entry.value.value.bytes = bytes(text)
            case .int(let number):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                entry.value.value.i64 = number
            }
            (entries + index).initialize(to: entry)
        }
        return amqp_table_t(num_entries: Int32(values.count), entries: entries)
    }
}

extension amqp_bytes_t {
    /// A Swift copy of the bytes (rabbitmq-c frees or reuses its buffers).
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    var string: String { String(decoding: array, as: UTF8.self) }
}

extension amqp_table_t {
    /// The string and integer entries of a table; other kinds are not used by Kindred.
    var headerValues: [String: HeaderValue] {
        var result: [String: HeaderValue] = [:]
        guard num_entries > 0, let entries else { return result }
        for index in 0..<Int(num_entries) {
            let entry = entries[index]
            let key = entry.key.string
            switch Int32(entry.value.kind) {
            case Int32(AMQP_FIELD_KIND_UTF8.rawValue), Int32(AMQP_FIELD_KIND_BYTES.rawValue):
                result[key] = .string(entry.value.value.bytes.string)
            case Int32(AMQP_FIELD_KIND_I8.rawValue): result[key] = .int(Int64(entry.value.value.i8))
            case Int32(AMQP_FIELD_KIND_U8.rawValue): result[key] = .int(Int64(entry.value.value.u8))
            case Int32(AMQP_FIELD_KIND_I16.rawValue): result[key] = .int(Int64(entry.value.value.i16))
            case Int32(AMQP_FIELD_KIND_U16.rawValue): result[key] = .int(Int64(entry.value.value.u16))
            case Int32(AMQP_FIELD_KIND_I32.rawValue): result[key] = .int(Int64(entry.value.value.i32))
            case Int32(AMQP_FIELD_KIND_U32.rawValue): result[key] = .int(Int64(entry.value.value.u32))
            case Int32(AMQP_FIELD_KIND_I64.rawValue), Int32(AMQP_FIELD_KIND_TIMESTAMP.rawValue):
                result[key] = .int(entry.value.value.i64)
            case Int32(AMQP_FIELD_KIND_U64.rawValue):
                result[key] = .int(Int64(truncatingIfNeeded: entry.value.value.u64))
            default: continue
            }
        }
        return result
    }
}
