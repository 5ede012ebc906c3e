using System.Reflection;
using System.Text;
using PublicApiGenerator;

namespace Advantage.Packaging.Tests;

/// <summary>
/// The public API of every packaged assembly, compared with the baseline committed in ApiBaselines/. A change
/// fails with a diff; when it is intended, accept it with
/// <c>ADVANTAGE_ACCEPT_API=1 dotnet test tests/Advantage.Packaging.Tests -c Release --filter FullyQualifiedName~PublicApiTests</c>
/// (rewrites the baselines from this build) and commit the changed files with the change.
/// </summary>
public sealed class PublicApiTests
{
    public const string AcceptVariable = "ADVANTAGE_ACCEPT_API";

    public const string AcceptCommand =
        AcceptVariable + "=1 dotnet test tests/Advantage.Packaging.Tests -c Release --filter FullyQualifiedName~PublicApiTests";

    public static TheoryData<string> Assemblies => new(Repository.PackageIds);

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Public_API_matches_the_committed_baseline(string assemblyName)
    {
        // Referenced by this project, so loaded from beside the test assembly: this build's copy.
        Assembly assembly = Assembly.Load(new AssemblyName(assemblyName));
        string actual = Normalize(assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }));
        string path = Path.Combine(Repository.Root, "tests", "Advantage.Packaging.Tests", "ApiBaselines", assemblyName + ".txt");
        string? expected = File.Exists(path) ? Normalize(File.ReadAllText(path)) : null;

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            if (expected != actual)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, actual);
            }
            return;
        }

        if (expected is null)
            Assert.Fail($"No API baseline for {assemblyName} at {path}. Create it with:\n  {AcceptCommand}");
        if (expected != actual)
        {
            Assert.Fail($"The public API of {assemblyName} differs from {path} "
                + $"(- baseline, + this build):\n{LineDiff.Describe(expected, actual)}\n"
                + $"If the change is intended, accept it and commit the baseline:\n  {AcceptCommand}");
        }
    }

    [Fact]
    public void Every_project_under_src_is_packaged_and_has_a_baseline()
    {
        // The command-line tool (src/Cli) is an application, not a library: it opts out of packing explicitly.
        var projects = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(path => !File.ReadAllText(path).Contains("<IsPackable>false</IsPackable>", StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension)
            .Order();
        Assert.Equal(projects, Repository.PackageIds.Order());
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";
}

/// <summary>A line diff (longest common subsequence) printed with a few lines of context around each change.</summary>
internal static class LineDiff
{
    public static string Describe(string expected, string actual, int context = 3, int maxLines = 300)
    {
        string[] a = expected.TrimEnd('\n').Split('\n');
        string[] b = actual.TrimEnd('\n').Split('\n');
        // lcs[i, j] = length of the longest common subsequence of a[i..] and b[j..].
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
            for (int j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);

        var lines = new List<(char Kind, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { lines.Add((' ', a[x])); x++; y++; }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1])) { lines.Add(('-', a[x])); x++; }
            else { lines.Add(('+', b[y])); y++; }
        }

        var shown = new bool[lines.Count];
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].Kind == ' ') continue;
            for (int k = Math.Max(0, i - context); k <= Math.Min(lines.Count - 1, i + context); k++) shown[k] = true;
        }
        var text = new StringBuilder();
        int written = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            if (!shown[i]) continue;
            if (i > 0 && !shown[i - 1]) text.Append("  ...\n");
            if (written++ == maxLines) { text.Append("  ... (diff cut)\n"); break; }
            text.Append(lines[i].Kind).Append(' ').Append(lines[i].Text).Append('\n');
        }
        return text.ToString();
    }
}
