using System.CommandLine;
using Advantage.Learning;

namespace Advantage.Cli.Tests;

/// <summary>
/// README's "Training flags" tables are what the flags' definitions make (<see cref="FlagReference"/>), so they cannot drift
/// from the parser, validation and <c>--help</c>.
/// </summary>
public sealed class FlagReferenceTests
{
    private static string ReadmePath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Advantage.slnx"))) dir = dir.Parent;
        Assert.True(dir is not null, "Cannot find the repository root (Advantage.slnx) above " + AppContext.BaseDirectory);
        return Path.Combine(dir.FullName, "README.md");
    }

    [Fact]
    public void Readme_flag_tables_are_what_the_definitions_make()
    {
        string path = ReadmePath();
        string readme = File.ReadAllText(path);
        string expected = FlagReference.Markdown(FlagReference.Builtin).Trim('\n');
        string? block = FlagReference.Block(readme);
        Assert.True(block is not null, $"README.md has no {FlagReference.Begin} ... {FlagReference.End} block.");
        if (block == expected) return;
        if (Environment.GetEnvironmentVariable("ADVANTAGE_ACCEPT_README") == "1")
        {
            File.WriteAllText(path, FlagReference.WithBlock(readme, expected));
            return;
        }
        string[] have = block!.Split('\n'), want = expected.Split('\n');
        int first = Enumerable.Range(0, Math.Min(have.Length, want.Length)).FirstOrDefault(k => have[k] != want[k], Math.Min(have.Length, want.Length));
        Assert.Fail(
            $"README.md's flag tables differ from the options' definitions at line {first + 1} of the block:\n" +
            $"  README: {(first < have.Length ? have[first] : "(ends)")}\n  made:   {(first < want.Length ? want[first] : "(ends)")}\n" +
            "Rewrite the block: ADVANTAGE_ACCEPT_README=1 dotnet test tests/Advantage.Cli.Tests -c Release --filter FullyQualifiedName~FlagReferenceTests " +
            "(or paste the output of advantage-train --help-markdown between the markers).");
    }

    [Fact]
    public void Every_flag_the_parser_takes_has_a_row_and_every_algorithm_a_column()
    {
        var algorithms = FlagReference.Builtin.Append(CliTestOptions.Descriptor).ToArray();
        string markdown = FlagReference.Markdown(algorithms);
        var command = new RootCommand();
        new TrainingFlags(null, algorithms).AddTo(command);

        foreach (var option in command.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name != "--help" && o.Name != "--version"))
            Assert.Contains($"| `{option.Name}` |", markdown, StringComparison.Ordinal);
        Assert.Contains($"| flag | a2c | ppo | impala | {CliTestOptions.Name} | what it sets |", markdown, StringComparison.Ordinal);
        // An algorithm's own flag: its default under its column, "-" under the others; a shared one under every column.
        Assert.Contains("| `--temperature` | - | - | - | 1.5 | Softmax temperature, in (0, 100] |", markdown, StringComparison.Ordinal);
        Assert.Contains("| `--clip-range` | - | 0.2 | - | - |", markdown, StringComparison.Ordinal);
        Assert.Contains("| `--seed` | 1 | 1 | 1 | 1 |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Builtin_are_the_librarys_own_algorithms_whatever_else_is_registered()
    {
        Algorithms.Register(CliTestOptions.Descriptor);
        Assert.Equal([A2COptions.AlgorithmName, PpoOptions.AlgorithmName, ImpalaOptions.AlgorithmName], FlagReference.Builtin.Select(d => d.Name));
    }

    [Fact]
    public async Task Help_markdown_prints_the_tables()
    {
        var (code, output) = await TrainCli.Run(["--help-markdown"], TimeSpan.FromSeconds(90));
        Assert.True(code == 0, $"exit code {code}: {output}");
        Assert.Equal(FlagReference.Markdown(FlagReference.Builtin), output);
    }
}
