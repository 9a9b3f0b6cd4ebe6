import Contracts
import PaymentService
import ServiceRuntime

await ServiceHost.main(.payment) { runtime, reader in
    try PaymentService.build(runtime: runtime, reader: &reader)
}
