using System.Text.Json;
using Xunit;

namespace Eplb.Tests;

/// <summary>One case produced by running DeepSeek's eplb.py (see Golden/README.md).</summary>
public sealed record GoldenCase(
    string Name,
    float[,] Weights,
    int NumReplicas,
    int NumGroups,
    int NumNodes,
    int NumGpus,
    RebalancePolicy Policy,
    int[,] PhysicalToLogical,
    int[,,] LogicalToPhysical,
    int[,] LogicalReplicaCount)
{
    public int NumLayers => Weights.GetLength(0);

    public int NumExperts => Weights.GetLength(1);

    public float[] FlatWeights() => Flatten<float>(Weights);

    public static T[] Flatten<T>(Array array)
    {
        var flat = new T[array.Length];
        int i = 0;
        foreach (T item in array)
        {
            flat[i++] = item;
        }

        return flat;
    }

    public override string ToString() => Name;
}

/// <summary>Loads the reference cases once; they are copied next to the test assembly.</summary>
public static class GoldenCases
{
    public const string SmallFile = "reference-small.json";
    public const string LargeFile = "reference-large.json";

    private static readonly Lazy<IReadOnlyList<GoldenCase>> s_all = new(() => [.. Load(SmallFile), .. Load(LargeFile)]);

    public static IReadOnlyList<GoldenCase> All => s_all.Value;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", file);

    /// <summary>Case names for xunit's theory data: one test per case.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (GoldenCase c in All)
        {
            data.Add(c.Name);
        }

        return data;
    }

    public static GoldenCase Get(string name) => All.Single(c => c.Name == name);

    private static List<GoldenCase> Load(string file)
    {
        using FileStream stream = File.OpenRead(PathOf(file));
        using JsonDocument doc = JsonDocument.Parse(stream);
        var cases = new List<GoldenCase>();
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new GoldenCase(
                c.GetProperty("name").GetString()!,
                Matrix(c.GetProperty("weights"), e => e.GetSingle()),
                c.GetProperty("num_replicas").GetInt32(),
                c.GetProperty("num_groups").GetInt32(),
                c.GetProperty("num_nodes").GetInt32(),
                c.GetProperty("num_gpus").GetInt32(),
                c.GetProperty("policy").GetString() == "global" ? RebalancePolicy.Global : RebalancePolicy.Hierarchical,
                Matrix(c.GetProperty("phy2log"), e => e.GetInt32()),
                Cube(c.GetProperty("log2phy")),
                Matrix(c.GetProperty("logcnt"), e => e.GetInt32())));
        }

        return cases;
    }

    private static T[,] Matrix<T>(JsonElement rows, Func<JsonElement, T> read)
    {
        int n = rows.GetArrayLength(), m = rows[0].GetArrayLength();
        var result = new T[n, m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                result[i, j] = read(rows[i][j]);
            }
        }

        return result;
    }

    private static int[,,] Cube(JsonElement layers)
    {
        int l = layers.GetArrayLength(), e = layers[0].GetArrayLength(), r = layers[0][0].GetArrayLength();
        var result = new int[l, e, r];
        for (int i = 0; i < l; i++)
        {
            for (int j = 0; j < e; j++)
            {
                for (int k = 0; k < r; k++)
                {
                    result[i, j, k] = layers[i][j][k].GetInt32();
                }
            }
        }

        return result;
    }
}
