import Contracts
import PaymentService
import ServiceRuntime

ServiceHost.runTasksOnEventLoops()
await ServiceHost.main(.payment) { runtime, reader in
    try PaymentService.build(runtime: runtime, reader: &reader)
}
