namespace Eplb;

/// <summary>
/// A set of experts that empties in O(1): each mark carries the current round's stamp, and a new round makes every
/// earlier mark stale. Relabelling asks "is this expert on this GPU already?" once per slot; a scan of the GPU's
/// slots would make that quadratic in the slots per GPU.
/// </summary>
internal sealed class ExpertMarks
{
    private int[] _stamp = [];
    private int _round;

    /// <summary>Sizes the set for experts <c>0 … experts - 1</c> and empties it.</summary>
    public void Reset(int experts)
    {
        if (_stamp.Length < experts)
        {
            _stamp = new int[experts];
            _round = 0;
        }

        NextRound();
    }

    /// <summary>Empties the set.</summary>
    public void NextRound()
    {
        if (++_round == int.MaxValue)
        {
            Array.Clear(_stamp);
            _round = 1;
        }
    }

    /// <summary>Adds <paramref name="expert"/>; false if it was in the set already.</summary>
    public bool Add(int expert)
    {
        if (_stamp[expert] == _round)
        {
            return false;
        }

        _stamp[expert] = _round;
        return true;
    }

    /// <summary>Whether <paramref name="expert"/> is in the set.</summary>
    public bool Contains(int expert) => _stamp[expert] == _round;
}
