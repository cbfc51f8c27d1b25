using BenchmarkDotNet.Running;

namespace Eplb.Benchmarks;

internal static class Program
{
    // dotnet run -c Release --project benchmarks/Eplb.Benchmarks -- --filter '*'
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
