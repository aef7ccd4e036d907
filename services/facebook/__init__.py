"""Facebook Pages channel: Graph API publishing with facebook-sdk, native scheduling, edit and delete."""
