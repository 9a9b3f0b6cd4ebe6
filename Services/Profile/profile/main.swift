import Contracts
import ProfileService
import ServiceRuntime

ServiceHost.runTasksOnEventLoops()
await ServiceHost.main(.profile) { runtime, reader in
    try ProfileService.build(runtime: runtime, reader: &reader)
}
