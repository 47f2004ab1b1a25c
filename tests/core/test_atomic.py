import pytest

from cifar_zeroshot.core.atomic import atomic_path


def test_output_appears_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "sub" / "out.csv"
    with atomic_path(target) as temp:
        temp.write_text("a,b\n")
        assert not target.exists()
    assert target.read_text() == "a,b\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_failure_leaves_the_old_output_and_no_temp_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("half")
        raise RuntimeError("killed half way")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_temp_file_of_a_killed_writer_is_removed(tmp_path):
    (tmp_path / ".out.csv.999999.tmp").write_text("left by SIGKILL")
    (tmp_path / ".other.csv.999999.tmp").write_text("another output's")
    with atomic_path(tmp_path / "out.csv") as temp:
        temp.write_text("new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.csv.999999.tmp", "out.csv"]
