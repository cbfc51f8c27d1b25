using System.Runtime.InteropServices;

namespace Eplb.Cli;

/// <summary>What a path names, as far as writing to it is concerned.</summary>
internal enum FileKind
{
    /// <summary>Nothing: a regular file would be created.</summary>
    Missing,

    /// <summary>A regular file: replaced atomically.</summary>
    Regular,

    Directory,

    /// <summary>A symbolic link: written through, the link kept.</summary>
    SymbolicLink,

    /// <summary>A device, FIFO or socket: written through, like a shell redirect.</summary>
    Special,
}

/// <summary>Tells file kinds apart without opening anything (a FIFO would block an open).</summary>
internal static partial class FileKinds
{
    private const int AtCurrentDirectory = -100, AtSymlinkNoFollow = 0x100, StatxType = 0x1, StatxSize = 256, ModeOffset = 28;

    /// <summary>The kind of <paramref name="path"/> itself (a link is a link, not its target).</summary>
    public static unsafe FileKind Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere only links, directories and files are told apart; a device there is written as a file.
            return new FileInfo(path).LinkTarget is not null ? FileKind.SymbolicLink
                : Directory.Exists(path) ? FileKind.Directory
                : File.Exists(path) ? FileKind.Regular
                : FileKind.Missing;
        }

        byte* status = stackalloc byte[StatxSize];
        if (Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, status) != 0)
        {
            return FileKind.Missing;
        }

        return (*(ushort*)(status + ModeOffset) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            _ => FileKind.Special,
        };
    }

    // statx(2) has one layout on every Linux architecture, unlike stat(2).
    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* status);
}
