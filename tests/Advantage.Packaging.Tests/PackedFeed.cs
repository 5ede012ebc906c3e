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
        PackResult = ChildProcess.Run(ChildProcess.Dotnet,
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

    /// <summary>
    /// The folder consumer projects are created in (outside the repository): a nuget.config there adds the
    /// packed folder to NuGet's usual sources, and empty Directory.* files keep any outer ones out.
    /// </summary>
    public string ConsumerRoot()
    {
        Xunit.Assert.True(PackResult.Succeeded, PackResult.Describe());
        string root = Path.Combine(Root, "consumers");
        lock (this)
        {
            if (Directory.Exists(root)) return root;
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="advantage-under-test" value="{Folder}" />
                  </packageSources>
                </configuration>
                """);
            foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
                File.WriteAllText(Path.Combine(root, file), "<Project />\n");
        }
        return root;
    }

    public void Dispose()
    {
        TryDelete(Root);
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in Repository.PackageIds)
        {
            string folder = Path.Combine(cache, id.ToLowerInvariant());
            TryDelete(Path.Combine(folder, Version));
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
            }
            catch (IOException) { }
        }
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
