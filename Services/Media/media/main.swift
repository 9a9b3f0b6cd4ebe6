import Contracts
import MediaService
import ServiceRuntime

ServiceHost.runTasksOnEventLoops()
await ServiceHost.main(.media) { runtime, reader in
    try MediaService.build(runtime: runtime, reader: &reader)
}
