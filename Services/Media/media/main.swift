import Contracts
import MediaService
import ServiceRuntime

await ServiceHost.main(.media) { runtime, reader in
    try MediaService.build(runtime: runtime, reader: &reader)
}
