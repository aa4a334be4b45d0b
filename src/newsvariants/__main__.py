from newsvariants.cli import app

app(prog_name="newsvariants")
