import Contracts
import ProfileService
import ServiceRuntime

await ServiceHost.main(.profile) { runtime, reader in
    try ProfileService.build(runtime: runtime, reader: &reader)
}
