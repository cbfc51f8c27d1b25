using System.Text.Json;
using Xunit;

namespace Eplb.Tests;

/// <summary>One case produced by running DeepSeek's eplb.py over one PyTorch sort (see Golden/README.md).</summary>
public sealed record GoldenCase(
    TieOrder TieOrder,
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
    /// <summary>Unique across the files: the tie order's file prefix and the case name.</summary>
    public string Id => $"{GoldenCases.FilePrefix(TieOrder)}/{Name}";

    /// <summary>Options that reproduce this case's sort.</summary>
    public RebalanceOptions Options => new() { TieOrder = TieOrder };

    /// <summary>The tool's --tie-order value for this case's sort.</summary>
    public string TieOrderOption => TieOrder switch
    {
        TieOrder.X86SimdSortAvx512 => "avx512",
        TieOrder.X86SimdSortAvx2 => "avx2",
        _ => "libstdc++",
    };

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

    public override string ToString() => Id;
}

/// <summary>Loads the reference cases once; they are copied next to the test assembly.</summary>
public static class GoldenCases
{
    /// <summary>The files' tie orders: libstdc++'s (reference-*.json) and x86-simd-sort's two builds.</summary>
    public static readonly TieOrder[] Orders = [TieOrder.LibStdCxx, TieOrder.X86SimdSortAvx512, TieOrder.X86SimdSortAvx2];

    private static readonly Lazy<IReadOnlyList<GoldenCase>> s_all = new(() =>
        Orders.SelectMany(order => new[] { "small", "large" }.SelectMany(size => Load($"{FilePrefix(order)}-{size}.json", order))).ToList());

    private static readonly Lazy<Dictionary<string, GoldenCase>> s_byId = new(() => All.ToDictionary(c => c.Id));

    public static IReadOnlyList<GoldenCase> All => s_all.Value;

    public static string FilePrefix(TieOrder order) => order switch
    {
        TieOrder.X86SimdSortAvx512 => "x86simdsort-avx512",
        TieOrder.X86SimdSortAvx2 => "x86simdsort-avx2",
        _ => "reference",
    };

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", file);

    /// <summary>Case ids for xunit's theory data: one test per case and tie order.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (GoldenCase c in All)
        {
            data.Add(c.Id);
        }

        return data;
    }

    public static GoldenCase Get(string id) => s_byId.Value[id];

    private static List<GoldenCase> Load(string file, TieOrder order)
    {
        using FileStream stream = File.OpenRead(PathOf(file));
        using JsonDocument doc = JsonDocument.Parse(stream);
        string expectedOrder = order == TieOrder.LibStdCxx ? "" : FilePrefix(order).Replace("x86simdsort", "x86-simd-sort", StringComparison.Ordinal);
        string actualOrder = doc.RootElement.TryGetProperty("tie_order", out JsonElement t) ? t.GetString()! : "";
        if (actualOrder != expectedOrder)
        {
            throw new InvalidDataException($"{file} holds tie order '{actualOrder}', expected '{expectedOrder}'");
        }

        var cases = new List<GoldenCase>();
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new GoldenCase(
                order,
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
