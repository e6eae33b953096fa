"""The parsed fields conversion and the reply composer read, as columns (0016 fills them)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('twitter_channel', '0014_assign_on_reply'),
    ]

    operations = [
        migrations.AddField(
            model_name='incomingitem',
            name='edit_history_ids',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='incomingitem',
            name='event_type',
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name='incomingitem',
            name='quoted_id',
            field=models.CharField(blank=True, max_length=25),
        ),
    ]
