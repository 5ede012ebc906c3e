using System.IO.Compression;
using System.Xml.Linq;

namespace Advantage.Packaging.Tests;

/// <summary>What `dotnet pack` puts in each package: metadata, README, docs, symbols, dependencies, the native fix.</summary>
[Collection(PackedFeedCollection.Name)]
public sealed class PackageContentsTests(PackedFeed feed)
{
    public static TheoryData<string> Ids => new(Repository.PackageIds);

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_package_has_metadata_readme_docs_and_symbols(string id)
    {
        Assert.True(feed.PackResult.Succeeded, feed.PackResult.Describe());
        Assert.True(File.Exists(feed.PackagePath(id, "snupkg")), $"no symbol package for {id}");

        using var package = ZipFile.OpenRead(feed.PackagePath(id));
        var files = package.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains($"lib/net10.0/{id}.dll", files);
        Assert.Contains($"lib/net10.0/{id}.xml", files);
        Assert.Contains("README.md", files);

        XElement metadata = Metadata(package);
        Assert.Equal(id, Value(metadata, "id"));
        Assert.Equal(feed.Version, Value(metadata, "version"));
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "description")));
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "tags")));
        Assert.Equal("README.md", Value(metadata, "readme"));
        XElement license = Child(metadata, "license");
        Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
        XElement repository = Child(metadata, "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");
    }

    [Fact]
    public void Environments_depends_on_nothing_beyond_the_BCL()
    {
        Assert.True(feed.PackResult.Succeeded, feed.PackResult.Describe());
        using var package = ZipFile.OpenRead(feed.PackagePath("Advantage.Environments"));
        Assert.DoesNotContain(Metadata(package).Descendants(), e => e.Name.LocalName == "dependency");
    }

    [Fact]
    public void Learning_writes_onnx_with_protobuf_alone_protoc_and_onnx_runtime_stay_out()
    {
        Assert.True(feed.PackResult.Succeeded, feed.PackResult.Describe());
        using var package = ZipFile.OpenRead(feed.PackagePath("Advantage.Learning"));
        var dependencies = Metadata(package).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string?)e.Attribute("id")).ToList();
        Assert.Contains("Google.Protobuf", dependencies);
        Assert.DoesNotContain("Grpc.Tools", dependencies);
        Assert.DoesNotContain(dependencies, d => d is not null && d.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal));
    }

    [Fact]
    public void Learning_carries_the_repository_own_native_fix_as_build_transitive_targets()
    {
        Assert.True(feed.PackResult.Succeeded, feed.PackResult.Describe());
        const string relative = "src/Learning/buildTransitive/Advantage.Learning.targets";
        using var package = ZipFile.OpenRead(feed.PackagePath("Advantage.Learning"));
        ZipArchiveEntry? entry = package.GetEntry("buildTransitive/Advantage.Learning.targets");
        Assert.NotNull(entry);
        using var reader = new StreamReader(entry.Open());
        Assert.Equal(File.ReadAllText(Path.Combine(Repository.Root, relative)), reader.ReadToEnd());
        // One copy of the fix: the repository's own build imports that very file.
        Assert.Contains(relative, File.ReadAllText(Path.Combine(Repository.Root, "Directory.Build.targets")));
    }

    private static XElement Metadata(ZipArchive package)
    {
        ZipArchiveEntry nuspec = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = nuspec.Open();
        return Child(XDocument.Load(stream).Root!, "metadata");
    }

    private static XElement Child(XElement parent, string name) =>
        parent.Elements().SingleOrDefault(e => e.Name.LocalName == name)
        ?? throw new Xunit.Sdk.XunitException($"<{name}> missing in the nuspec's <{parent.Name.LocalName}>");

    private static string Value(XElement parent, string name) => Child(parent, name).Value;
}
