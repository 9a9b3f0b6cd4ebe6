import Contracts
import NotificationService
import ServiceRuntime

await ServiceHost.main(.notification) { runtime, reader in
    try NotificationService.build(runtime: runtime, reader: &reader)
}
