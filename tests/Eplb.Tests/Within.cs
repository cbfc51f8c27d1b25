namespace Eplb.Tests;

/// <summary>Runs a call that must finish quickly, so that a hang fails its test instead of stalling the run.</summary>
public static class Within
{
    /// <summary>What <paramref name="action"/> threw, or null; fails if it has not returned after <paramref name="seconds"/>.</summary>
    public static Exception? Seconds(int seconds, Action action)
    {
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                thrown = e;
            }
        })
        { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(seconds)))
        {
            throw new TimeoutException($"the call did not return within {seconds} s");
        }

        return thrown;
    }
}
