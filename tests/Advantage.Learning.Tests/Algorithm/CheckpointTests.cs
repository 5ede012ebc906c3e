using Advantage.Learning.Networks;

namespace Advantage.Learning.Tests.Algorithm;

public class CheckpointTests
{
    [Fact]
    public void A_checkpoint_round_trips_and_a_corrupt_or_foreign_file_is_refused()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.ckpt");
            var spec = new NetworkSpec(4, [8, 8], 2, false);
            var checkpoint = new Checkpoint(spec, [1f, -2.5f, 3e-7f], new Dictionary<string, string> { ["steps"] = "42" });
            checkpoint.Save(path);
            var loaded = Checkpoint.Load(path);
            Assert.Equal(spec, loaded.Spec);
            Assert.Equal(checkpoint.Parameters, loaded.Parameters);
            Assert.Equal("42", loaded.Metadata["steps"]);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));

            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^2]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
            File.WriteAllText(path, "not a checkpoint at all");
            Assert.Contains("not an Advantage checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
            bytes[8] = 99;
            File.WriteAllBytes(path, bytes);
            Assert.Contains("format 99", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
