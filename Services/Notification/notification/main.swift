import Contracts
import NotificationService
import ServiceRuntime

ServiceHost.runTasksOnEventLoops()
await ServiceHost.main(.notification) { runtime, reader in
    try NotificationService.build(runtime: runtime, reader: &reader)
}
