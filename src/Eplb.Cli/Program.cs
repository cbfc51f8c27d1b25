namespace Eplb.Cli;

internal static class Program
{
    private static int Main(string[] args) => EplbApp.Run(args, Console.Out, Console.Error, Console.In);
}
