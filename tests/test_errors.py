"""The words errors are shown in: plain for unusable media, one casing everywhere."""

from __future__ import annotations

from fakelens.errors import CorruptMedia, ModelMissing, UnsupportedMedia, sentence, user_message


def test_decoder_text_stays_out_of_the_message():
    exc = CorruptMedia("clip.mp4: cannot read image header (Invalid data found when "
                       "processing input)")
    message = user_message(exc, "clip.mp4")
    assert message.startswith("clip.mp4: the file is damaged")
    assert "Invalid data" not in message
    assert "decompression bomb" not in user_message(UnsupportedMedia(
        "x.png: could be decompression bomb DOS attack"), "x.png")


def test_one_casing():
    assert sentence("too many uploads; try again in 2 minutes") == (
        "Too many uploads; try again in 2 minutes.")
    assert sentence("holiday.png: no such file") == "holiday.png: no such file."
    assert sentence("Done!") == "Done!"
    assert user_message(ModelMissing("no trained model installed")) == (
        "No trained model installed.")
