using TorchSharp;

namespace Advantage.Learning.Tests;

public class NativeLoadTests
{
    [Fact]
    public void A_tensor_can_be_created_and_summed()
    {
        using var t = torch.tensor(new float[] { 1f, 2f, 3f });
        Assert.Equal(6f, t.sum().item<float>());
    }
}
