namespace Advantage.Packaging.Tests;

/// <summary>Where the repository this test assembly was built from lives, and how it was built.</summary>
internal static class Repository
{
    /// <summary>The configuration this test assembly (and so the src projects it references) was built in.</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The packaged projects' package ids, which are also their assembly names.</summary>
    public static readonly IReadOnlyList<string> PackageIds =
    [
        "Advantage.Environments",
        "Advantage.Learning",
        "Advantage.Learning.Testing",
        "Advantage.Actors",
        "Advantage.Hosting",
    ];

    /// <summary>The folder holding Advantage.slnx, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Advantage.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No Advantage.slnx above {AppContext.BaseDirectory}.");
    }
}
