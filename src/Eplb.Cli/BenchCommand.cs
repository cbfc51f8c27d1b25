using System.CommandLine;
using System.Globalization;
using Eplb.Workloads;

namespace Eplb.Cli;

/// <summary><c>eplb bench</c>: times <c>RebalanceExperts</c> in-process after a warm-up.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextReader stdin)
    {
        var weights = new Option<string?>("--weights") { Description = "Loads to time (.json, .csv, .npy or -); default: generated, see --layers/--experts" };
        var step = new Option<int?>("--step") { Description = "The step to time, when --weights holds a series of load windows" };
        var layers = new Option<int>("--layers") { Description = "Layers of generated loads", DefaultValueFactory = _ => 58 };
        var experts = new Option<int>("--experts") { Description = "Experts of generated loads", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of generated loads", DefaultValueFactory = _ => 1 };
        var cluster = new ClusterOptions();
        var iterations = new Option<int>("--iterations") { Description = "Timed calls (after a warm-up)", DefaultValueFactory = _ => 200 };
        var threads = new Option<int>("--threads") { Description = "Threads placing layers at once (RebalanceOptions.MaxDegreeOfParallelism; -1 = every core)", DefaultValueFactory = _ => 1 };
        var reuse = new Option<bool>("--reuse-buffers") { Description = "Time TryRebalanceExperts into buffers reused across calls (what a server does; allocates nothing) instead of RebalanceExperts, which returns a new plan each call" };
        var format = new Option<string>("--format") { Description = "table (default) or json: {\"median_us\", \"min_us\", \"iterations\", ...}", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("bench",
            "Time a rebalance in-process, after a warm-up; one thread by default.\n\n" +
            "Examples:\n" +
            "  eplb bench --replicas 288 --groups 8 --nodes 4 --gpus 32\n" +
            "  eplb bench --weights loads.npy --replicas 288 --groups 8 --nodes 18 --gpus 144 --format json")
        {
            weights, step, layers, experts, seed, iterations, threads, reuse, format,
        };
        cluster.AddTo(command);
        command.SetAction(parsed =>
        {
            ClusterConfig c = cluster.Read(parsed);
            ToolLimits.ThrowIfTooLarge(c.Replicas, layers: 1);
            int n = parsed.GetValue(iterations);
            if (n <= 0)
            {
                throw CliException.Usage($"--iterations must be positive, but is {n}");
            }

            RebalanceOptions options;
            try
            {
                options = new RebalanceOptions { MaxDegreeOfParallelism = parsed.GetValue(threads), TieOrder = c.TieOrder, UnavailableGpus = c.UnavailableGpus ?? [], Algorithm = c.Algorithm };
            }
            catch (ArgumentOutOfRangeException)
            {
                throw CliException.Usage($"--threads must be positive or -1 (every core), but is {parsed.GetValue(threads)}");
            }

            LoadMatrix loads = Loads(parsed.GetValue(weights), parsed.GetValue(step), parsed.GetValue(layers), parsed.GetValue(experts), parsed.GetValue(seed), stdin);
            float[] w = loads.Values;
            bool reuseBuffers = parsed.GetValue(reuse);
            Action call = () => ExpertLoadBalancer.RebalanceExperts(w, loads.Layers, c.Replicas, c.Groups, c.Nodes, c.Gpus, options);
            if (reuseBuffers)
            {
                var physicalToLogical = new int[loads.Layers * c.Replicas];
                var logicalToPhysical = new int[(long)loads.Layers * loads.Experts * Math.Max(1, c.Replicas - loads.Experts + 1)];
                var logicalReplicaCount = new int[loads.Layers * loads.Experts];
                call = () => ExpertLoadBalancer.TryRebalanceExperts(w, loads.Layers, c.Replicas, c.Groups, c.Nodes, c.Gpus,
                    physicalToLogical, logicalToPhysical, logicalReplicaCount, out _, options);
            }

            double[] micros = Timing.Measure(call, n, out int warmUp);
            double median = Timing.Median(micros);
            if (parsed.GetValue(format) == "json")
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"median_us\": {median:0.###}, \"min_us\": {micros[0]:0.###}, \"iterations\": {n}, \"threads\": {options.MaxDegreeOfParallelism}, \"layers\": {loads.Layers}, \"experts\": {loads.Experts}, \"num_replicas\": {c.Replicas}, \"num_groups\": {c.Groups}, \"num_nodes\": {c.Nodes}, \"num_gpus\": {c.Gpus}, \"algorithm\": \"{ClusterOptions.Name(c.Algorithm)}\", \"tie_order\": \"{ClusterOptions.Name(c.TieOrder)}\", \"api\": \"{(reuseBuffers ? "TryRebalanceExperts" : "RebalanceExperts")}\"}}"));
            }
            else
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(reuseBuffers ? "TryRebalanceExperts (reused buffers)" : "RebalanceExperts")} on {loads.Layers} layers x {loads.Experts} experts, ({c.Replicas}, {c.Groups}, {c.Nodes}, {c.Gpus}), {TableReport.Algorithm(c)}, {options.MaxDegreeOfParallelism} thread(s)"));
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"median {median:0.0} us   min {micros[0]:0.0} us   p90 {micros[(int)(0.9 * (n - 1))]:0.0} us   ({n} calls after {warmUp} warm-up calls)"));
            }

            return 0;
        });
        return command;
    }

    private static LoadMatrix Loads(string? path, int? step, int layers, int experts, int seed, TextReader stdin)
    {
        if (path is not null)
        {
            return LoadReader.Read(path, stdin).Pick(step);
        }

        if (layers <= 0 || experts <= 0)
        {
            throw CliException.Usage($"--layers and --experts must be positive, but are {layers} and {experts}");
        }

        return LoadMatrix.From(ExpertLoadGenerator.Generate(layers, experts, seed));
    }
}
