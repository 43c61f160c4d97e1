using SdTune.Schedulers;

namespace SdTune.Tests.Schedulers;

public class SamplerRegistryTests
{
    private static readonly NoiseSchedule Sd = new(NoiseScheduleConfig.StableDiffusion);

    [Theory]
    [InlineData("Euler a", typeof(EulerAncestralSampler), "Euler a")]
    [InlineData("euler-a", typeof(EulerAncestralSampler), "Euler a")]
    [InlineData("EULER_A", typeof(EulerAncestralSampler), "Euler a")]
    [InlineData("Euler", typeof(EulerSampler), "Euler")]
    [InlineData(" euler ", typeof(EulerSampler), "Euler")]
    [InlineData("DDIM", typeof(DdimSampler), "DDIM")]
    [InlineData("ddim", typeof(DdimSampler), "DDIM")]
    [InlineData("DPM++ 2M", typeof(DpmPlusPlus2MSampler), "DPM++ 2M")]
    [InlineData("dpmpp-2m", typeof(DpmPlusPlus2MSampler), "DPM++ 2M")]
    [InlineData("DPM++ 2M Karras", typeof(DpmPlusPlus2MSampler), "DPM++ 2M Karras")]
    [InlineData("dpmpp-2m-karras", typeof(DpmPlusPlus2MSampler), "DPM++ 2M Karras")]
    [InlineData("dpm++ 2m karras", typeof(DpmPlusPlus2MSampler), "DPM++ 2M Karras")]
    public void Names_and_aliases_resolve_to_the_sampler(string typed, Type type, string name)
    {
        var sampler = SamplerRegistry.Create(typed, Sd);
        Assert.IsType(type, sampler);
        Assert.Equal(name, sampler.Name);
        Assert.Equal(name, SamplerRegistry.Resolve(typed));
        Assert.Same(Sd, sampler.Schedule);
        Assert.True(SamplerRegistry.IsKnown(typed));
    }

    [Fact]
    public void Karras_is_on_only_for_the_karras_name()
    {
        Assert.True(((DpmPlusPlus2MSampler)SamplerRegistry.Create("dpmpp-2m-karras", Sd)).Karras);
        Assert.False(((DpmPlusPlus2MSampler)SamplerRegistry.Create("dpmpp-2m", Sd)).Karras);
    }

    [Fact]
    public void Every_listed_name_and_kebab_name_creates_a_sampler_of_that_name()
    {
        Assert.Equal(["Euler a", "Euler", "DDIM", "DPM++ 2M", "DPM++ 2M Karras"], SamplerRegistry.Names);
        Assert.Equal(["euler-a", "euler", "ddim", "dpmpp-2m", "dpmpp-2m-karras"], SamplerRegistry.KebabNames);
        for (var i = 0; i < SamplerRegistry.Names.Count; i++)
        {
            Assert.Equal(SamplerRegistry.Names[i], SamplerRegistry.Create(SamplerRegistry.Names[i], Sd).Name);
            Assert.Equal(SamplerRegistry.Names[i], SamplerRegistry.Create(SamplerRegistry.KebabNames[i], Sd).Name);
        }
    }

    [Fact]
    public void An_unknown_name_lists_the_valid_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => SamplerRegistry.Create("Heun", Sd));
        Assert.Contains("Unknown sampler 'Heun'", error.Message, StringComparison.Ordinal);
        foreach (var name in SamplerRegistry.Names.Concat(SamplerRegistry.KebabNames))
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }

        Assert.False(SamplerRegistry.IsKnown("Heun"));
        Assert.False(SamplerRegistry.IsKnown(null));
    }
}
