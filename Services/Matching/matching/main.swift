import Contracts
import MatchingService
import ServiceRuntime

ServiceHost.runTasksOnEventLoops()
await ServiceHost.main(.matching) { runtime, reader in
    try MatchingService.build(runtime: runtime, reader: &reader)
}
