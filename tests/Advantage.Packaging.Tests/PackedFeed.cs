namespace Advantage.Packaging.Tests;

/// <summary>
/// The src projects packed once per test run into a temporary folder, under a version no earlier run used
/// (so a package left in the NuGet cache by another run can never stand in for this build's). The
/// packages are the assemblies this test assembly was built against (<c>dotnet pack --no-build</c>).
/// Disposing removes the folder and this version's copies from the NuGet cache.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public PackedFeed()
    {
        Version = $"0.0.0-packagingtest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        Root = Path.Combine(Path.GetTempPath(), $"advantage-packaging-{Guid.NewGuid():N}");
        Folder = Path.Combine(Root, "feed");
        Directory.CreateDirectory(Folder);
        PackResult = ChildProcess.Run("dotnet",
            [
                "pack", Path.Combine(Repository.Root, "Advantage.slnx"),
                "--no-build", "-c", Repository.Configuration, "--disable-build-servers",
                "-o", Folder,
                $"-p:PackageVersion={Version}",
                $"-p:NuspecOutputPath={Path.Combine(Root, "nuspec")}/",
            ],
            Repository.Root, TimeSpan.FromMinutes(5));
    }

    /// <summary>The packages' version, unique to this run.</summary>
    public string Version { get; }

    /// <summary>A temporary folder outside the repository; consumers are created under it.</summary>
    public string Root { get; }

    /// <summary>The folder the packages are in (a local NuGet source).</summary>
    public string Folder { get; }

    /// <summary>How <c>dotnet pack</c> went.</summary>
    internal ChildResult PackResult { get; }

    /// <summary>The path of one package (or, with <paramref name="extension"/> "snupkg", its symbols).</summary>
    public string PackagePath(string id, string extension = "nupkg") =>
        Path.Combine(Folder, $"{id}.{Version}.{extension}");

    public void Dispose()
    {
        TryDelete(Root);
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in Repository.PackageIds)
            TryDelete(Path.Combine(cache, id.ToLowerInvariant(), Version));
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedFeedCollection : ICollectionFixture<PackedFeed>
{
    public const string Name = "packed feed";
}
