import Contracts
import MatchingService
import ServiceRuntime

await ServiceHost.main(.matching) { runtime, reader in
    try MatchingService.build(runtime: runtime, reader: &reader)
}
