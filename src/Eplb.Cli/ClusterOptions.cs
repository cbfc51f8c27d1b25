using System.CommandLine;

namespace Eplb.Cli;

/// <summary>The four numbers that describe the cluster, shared by <c>rebalance</c> and <c>bench</c>.</summary>
internal sealed class ClusterOptions
{
    public Option<int> Replicas { get; } = new("--replicas") { Description = "Physical expert slots per layer (num_replicas): at least the expert count, a multiple of --gpus", Required = true };

    public Option<int> Groups { get; } = new("--groups") { Description = "Expert groups (num_groups); the hierarchical policy applies when --nodes divides it", Required = true };

    public Option<int> Nodes { get; } = new("--nodes") { Description = "Server nodes (num_nodes)", Required = true };

    public Option<int> Gpus { get; } = new("--gpus") { Description = "GPUs in all (num_gpus): a multiple of --nodes", Required = true };

    public void AddTo(Command command)
    {
        command.Add(Replicas);
        command.Add(Groups);
        command.Add(Nodes);
        command.Add(Gpus);
    }

    public ClusterConfig Read(ParseResult parsed) =>
        new(parsed.GetValue(Replicas), parsed.GetValue(Groups), parsed.GetValue(Nodes), parsed.GetValue(Gpus));
}
