import KindredCLI

await KindredCLI.run()
