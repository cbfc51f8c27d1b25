namespace Eplb;

/// <summary>One expert weight a GPU must receive to go from the placement in force to a new one.</summary>
/// <param name="Layer">The MoE layer.</param>
/// <param name="Expert">The logical expert to copy.</param>
/// <param name="Gpu">The GPU that receives it.</param>
/// <param name="Slot">The physical slot it goes to (<c>phy2log</c>'s column).</param>
/// <param name="SourceGpu">A GPU that holds the expert now — one on the receiver's node if there is one — or -1 if none does.</param>
public readonly record struct ExpertCopy(int Layer, int Expert, int Gpu, int Slot, int SourceGpu);
