import Contracts
import GatewayService
import ServiceRuntime

await ServiceHost.main(.gateway) { runtime, reader in
    try GatewayService.build(runtime: runtime, reader: &reader)
}
