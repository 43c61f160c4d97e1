using SdTune.Models.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>Repeated passes must not leave tensors behind (every intermediate lives in a dispose scope).</summary>
public class ClipTextMemoryTests
{
    [Fact]
    public void Repeated_forward_and_encode_keep_the_live_tensor_count_flat()
    {
        using var model = ClipTextFixture.LoadModel();
        using var ids = ClipTextFixture.Read("input.input_ids");
        using var noGrad = no_grad();

        var counts = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            using (var output = model.forward(ids))
            {
                using var selected = model.SelectHiddenState(output, clipSkip: 2, applyFinalLayerNorm: true);
            }

            using (var encoded = model.Encode(ids, clipSkip: 2))
            using (var index = model.PooledTokenIndex(ids))
            {
            }

            counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }

        Assert.All(counts, c => Assert.Equal(counts[0], c));
    }

    [Fact]
    public void Outputs_created_inside_a_caller_scope_are_released_with_it()
    {
        using var model = ClipTextFixture.LoadModel();
        using var ids = ClipTextFixture.Read("input.input_ids");
        using var noGrad = no_grad();

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            _ = model.forward(ids);
            _ = model.Encode(ids, clipSkip: 1);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
