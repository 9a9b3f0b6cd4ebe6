import Contracts
import GatewayService
import ServiceRuntime

ServiceHost.runTasksOnEventLoops()
await ServiceHost.main(.gateway) { runtime, reader in
    try GatewayService.build(runtime: runtime, reader: &reader)
}
