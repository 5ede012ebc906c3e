namespace Advantage.Environments.Tests;

/// <summary>A user's environments, loaded from their assembly by path through <see cref="IEnvironmentRegistration"/>.</summary>
public sealed class EnvironmentAssemblyTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-env-assembly-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>The test-only environment assembly (tests/Advantage.TestEnvironments), built beside these tests, never referenced.</summary>
    internal static string TestEnvironmentsPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Advantage.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        string dll = Path.Combine(dir.FullName, "tests", "Advantage.TestEnvironments", "bin", configuration, "net10.0", "Advantage.TestEnvironments.dll");
        Assert.True(File.Exists(dll), $"Build tests/Advantage.TestEnvironments first: {dll} is missing.");
        return dll;
    }

    [Fact]
    public void An_assembly_registers_what_it_exports_after_the_registrys_own_ids()
    {
        var registry = EnvironmentRegistry.Builtin.WithAssembly(TestEnvironmentsPath());
        Assert.Equal([.. EnvironmentRegistry.Builtin.Ids, "Corridor-v0"], registry.Ids);
        var env = registry.Make("Corridor-v0");
        Assert.Equal(new Discrete(2), env.ActionSpace);
        Span<float> observation = stackalloc float[1];
        env.Reset(1, observation);
        Assert.Equal(0f, observation[0]);
        Assert.False(EnvironmentRegistry.Builtin.Contains("Corridor-v0"));
    }

    [Fact]
    public void A_missing_file_is_one_line_naming_it()
    {
        string path = Path.Combine(folder, "NoSuch.dll");
        var e = Assert.Throws<EnvironmentAssemblyException>(() => EnvironmentRegistry.Builtin.WithAssembly(path));
        Assert.Equal($"'{path}' does not exist; give the path of the .dll that holds your environments.", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_assembly_is_one_line_naming_it()
    {
        string path = Path.Combine(folder, "Text.dll");
        File.WriteAllText(path, "not an assembly");
        var e = Assert.Throws<EnvironmentAssemblyException>(() => EnvironmentRegistry.Builtin.WithAssembly(path));
        Assert.StartsWith($"'{path}' is not a .NET assembly", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void An_assembly_that_exports_no_registration_is_one_line_saying_what_it_needs()
    {
        string path = typeof(IEnvironment).Assembly.Location;
        var e = Assert.Throws<EnvironmentAssemblyException>(() => EnvironmentRegistry.Builtin.WithAssembly(path));
        Assert.Equal($"'{path}' exports no environments: it needs a public class implementing Advantage.Environments.IEnvironmentRegistration with a public parameterless constructor.", e.Message);
    }

    [Fact]
    public void An_id_the_registry_already_has_is_refused_with_the_registrations_name()
    {
        var once = EnvironmentRegistry.Builtin.WithAssembly(TestEnvironmentsPath());
        var e = Assert.Throws<EnvironmentAssemblyException>(() => once.WithAssembly(TestEnvironmentsPath()));
        Assert.Contains("Advantage.TestEnvironments.TestEnvironmentsRegistration.Register failed: Environment id 'Corridor-v0' is already registered.", e.Message);
    }
}
