using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class CaptionFilesTests
{
    [Fact]
    public void Images_are_found_by_extension_in_any_case_and_sorted()
    {
        using var dir = TestPaths.NewTempDir();
        foreach (var name in new[] { "b.PNG", "a.jpg", "c.JpEg", "d.webp", "e.bmp", "f.gif", "g.txt", "h.caption" })
        {
            File.WriteAllBytes(dir.File(name), [0]);
        }

        Directory.CreateDirectory(dir.File("sub.png"));
        Assert.Equal(["a.jpg", "b.PNG", "c.JpEg", "d.webp", "e.bmp"], ImageFiles.List(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void The_caption_is_the_first_line_of_the_file_with_the_caption_extension()
    {
        using var dir = TestPaths.NewTempDir();
        DataTestFiles.Text(dir.File("img.txt"), "  sks dog, grass \r\nsecond line\n");
        DataTestFiles.Text(dir.File("img.caption"), "other");
        Assert.Equal("sks dog, grass", CaptionFiles.Read(dir.File("img.png"), ".txt", enableWildcard: false));
        Assert.Equal("other", CaptionFiles.Read(dir.File("img.png"), ".caption", enableWildcard: false));
        Assert.Null(CaptionFiles.Read(dir.File("img.png"), ".tags", enableWildcard: false));
    }

    [Fact]
    public void Wildcard_captions_keep_every_non_empty_line()
    {
        using var dir = TestPaths.NewTempDir();
        DataTestFiles.Text(dir.File("img.txt"), "\uFEFFone\n\n  two  \n");
        Assert.Equal("one\ntwo", CaptionFiles.Read(dir.File("img.png"), ".txt", enableWildcard: true));
    }

    [Fact]
    public void The_legacy_face_crop_name_drops_the_last_four_underscore_tokens()
    {
        using var dir = TestPaths.NewTempDir();
        DataTestFiles.Text(dir.File("photo_a.txt"), "legacy");
        Assert.Equal("legacy", CaptionFiles.Read(dir.File("photo_a_10_20_30_40.png"), ".txt", false));
        Assert.Equal([dir.File("x_1_2_3.txt")], CaptionFiles.Candidates(dir.File("x_1_2_3.png"), ".txt"));
    }

    [Fact]
    public void Empty_and_non_utf8_caption_files_are_errors_naming_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        DataTestFiles.Text(dir.File("empty.txt"), "");
        DataTestFiles.Text(dir.File("blank.txt"), "\n second");
        File.WriteAllBytes(dir.File("latin.txt"), [0x63, 0x61, 0x66, 0xE9]);

        var empty = Assert.Throws<DatasetException>(() => CaptionFiles.Read(dir.File("empty.png"), ".txt", false));
        Assert.Equal(dir.File("empty.txt"), empty.Path);
        Assert.Contains("empty", empty.Message, StringComparison.Ordinal);
        Assert.Throws<DatasetException>(() => CaptionFiles.Read(dir.File("blank.png"), ".txt", false));
        Assert.Equal("second", CaptionFiles.Read(dir.File("blank.png"), ".txt", true));
        var latin = Assert.Throws<DatasetException>(() => CaptionFiles.Read(dir.File("latin.png"), ".txt", false));
        Assert.Contains("latin.txt: the caption file is not valid UTF-8", latin.Message, StringComparison.Ordinal);
    }
}
